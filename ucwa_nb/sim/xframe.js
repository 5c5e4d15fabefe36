// ucwa-nb's cross-domain frame: the postMessage protocol of Cross_domainIFRAME.md
// (https://learn.microsoft.com/en-us/skype-sdk/ucwa/cross_domainiframe), written for the
// simulator. A web page on another origin embeds this page in an iframe and posts it
// requests; the frame sends each with XMLHttpRequest from the server's own origin (so the
// browser's same-origin policy lets it read the answer) and posts the answer back.
//
// Request (a JSON string, or an object; also wrapped as {"request": {...}}, the way the
// page's own example posts it): type, url, headers, data, accepts, contentType, cache,
// processData, xhrFields, messageId. Answer (a JSON string if the request was one, else an
// object): status, statusText, responseText, headers, messageId.
(function () {
  "use strict";

  // The header names as the server writes them (IIS's spelling): browsers lower-case the
  // names of getAllResponseHeaders(), and applications look them up case-sensitively.
  var CANONICAL = __CANONICAL_HEADERS__;
  // [infer] The xhr fields a page may set: the ones that change how a request is sent.
  var XHR_FIELDS = ["withCredentials", "timeout"];
  var byLowerCase = {};
  CANONICAL.forEach(function (name) { byLowerCase[name.toLowerCase()] = name; });

  function capitalise(name) {
    var known = byLowerCase[name.toLowerCase()];
    if (known) { return known; }
    // A header the list does not know: each word capitalised (Content-Type's pattern).
    return name.split("-").map(function (word) {
      return word.charAt(0).toUpperCase() + word.slice(1);
    }).join("-");
  }

  function headerBlock(raw) {
    return raw.split(/\r?\n/).filter(function (line) { return line.indexOf(":") > 0; })
      .map(function (line) {
        var colon = line.indexOf(":");
        return capitalise(line.slice(0, colon)) + ":" + line.slice(colon + 1);
      }).join("\r\n");
  }

  function formEncoded(data) {
    return Object.keys(data).map(function (key) {
      return encodeURIComponent(key) + "=" + encodeURIComponent(String(data[key]));
    }).join("&");
  }

  function readRequest(data) {
    var request = data;
    if (typeof data === "string") {
      try { request = JSON.parse(data); } catch (error) { return null; }
    }
    if (request && typeof request === "object" && !("url" in request) &&
        request.request && typeof request.request === "object") {
      request = request.request;  // JSON.stringify({request}), as the page's example posts
    }
    if (!request || typeof request !== "object" || typeof request.url !== "string") {
      return null;  // not a request of this protocol: some other script's message
    }
    return request;
  }

  function send(request, pageOrigin, answer) {
    var url = new URL(request.url, window.location.href);  // relative links work too
    if (url.origin !== window.location.origin) {
      // The frame speaks for its own server only: never an open relay for a page.
      answer(0, "error", "", "");
      return;
    }
    var method = String(request.type || "GET").toUpperCase();
    var body = request.data;
    var contentType = request.contentType;
    if (body !== undefined && body !== null && typeof body === "object") {
      if (request.processData === false) {
        body = JSON.stringify(body);
      } else {
        body = formEncoded(body);
        contentType = contentType || "application/x-www-form-urlencoded; charset=UTF-8";
      }
    }
    if ((method === "GET" || method === "HEAD") && typeof body === "string" && body) {
      url.search += (url.search ? "&" : "") + body;  // jQuery's way: the data as a query
      body = null;
    }
    var xhr = new XMLHttpRequest();
    xhr.open(method, url.href, true);
    var accepts = request.accepts;
    if (accepts && typeof accepts === "object") {
      accepts = Object.keys(accepts).map(function (key) { return accepts[key]; }).join(", ");
    }
    if (accepts) { xhr.setRequestHeader("Accept", String(accepts)); }
    if (contentType && body !== undefined && body !== null) {
      xhr.setRequestHeader("Content-Type", String(contentType));
    }
    if (request.cache === false) { xhr.setRequestHeader("Cache-Control", "no-cache"); }
    var headers = request.headers || {};
    Object.keys(headers).forEach(function (name) {
      if (name.toLowerCase() !== "x-ms-origin") {
        xhr.setRequestHeader(name, String(headers[name]));
      }
    });
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    // Who asked, as the browser told the frame (never what the page says it is): the
    // server checks it against its web application allow list.
    xhr.setRequestHeader("X-Ms-Origin", pageOrigin);
    var fields = request.xhrFields || {};
    XHR_FIELDS.forEach(function (name) {
      if (name in fields) { xhr[name] = fields[name]; }
    });
    xhr.onloadend = function () {
      answer(xhr.status, xhr.statusText, xhr.status ? xhr.responseText : "",
             headerBlock(xhr.getAllResponseHeaders()));
    };
    xhr.send(body === undefined ? null : body);
  }

  window.addEventListener("message", function (event) {
    var request = readRequest(event.data);
    if (request === null || !event.source) { return; }
    var asText = typeof event.data === "string";
    // A page with an opaque origin ("null": a file) cannot be addressed by its origin;
    // the server refuses it anyway ("null" is never on the allow list).
    var target = event.origin === "null" ? "*" : event.origin;
    function answer(status, statusText, responseText, headers) {
      var reply = {status: status, statusText: statusText, responseText: responseText,
                   headers: headers, messageId: request.messageId};
      event.source.postMessage(asText ? JSON.stringify(reply) : reply, target);
    }
    try {
      send(request, event.origin, answer);
    } catch (error) {
      // A request the browser will not send (a bad URL, a header it forbids): jQuery's
      // answer to it, status 0.
      answer(0, "error", "", "");
    }
  }, false);
}());
