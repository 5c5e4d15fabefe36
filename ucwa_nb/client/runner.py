"""Running the operations of ``protocol/operations.py``: find the link where the definition
says it is, prepare the request, send it, and follow a created invitation as a
PhoneAudioCall; or act on a call through the link its invitation leads to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.errors import UcwaError, ValidationError
from ucwa_nb.client.hooks import ExchangeHooks, absolute
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.operations import (
    OPERATIONS,
    OperationSpec,
    PreparedCall,
    Values,
    draft,
    operation_named,
)
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.registry import CallRegistry
from ucwa_nb.protocol.operations import CheckContext
from ucwa_nb.protocol.representation import (
    Format,
    Resource,
    build_input,
    checked_format,
    media_type,
)

__all__ = ["OperationRunner", "in_words"]

# The resource that offers a link, in words, for "not offered now (phone audio is Connected)".
_WORDS = {"phoneAudio": "phone audio", "conversationLog": "the conversation log",
          "phoneAudioInvitation": "the invitation"}


def in_words(rel: str) -> str:
    """A resource's rel as a person says it: ``phoneAudio`` -> ``phone audio``."""
    return _WORDS.get(rel, rel)


def refuse_unknown_arguments(operation: OperationSpec, values: Mapping[str, object]) -> None:
    """TypeError, as Python gives for a function's unknown keyword, for a value the
    operation does not take (a typo would otherwise be dropped from the body unseen)."""
    unknown = [name for name in values if operation.field(name) is None]
    if unknown:
        takes = ", ".join(f.argument for f in operation.fields) or "no input"
        raise TypeError(f"{operation.rel} got unexpected input {', '.join(unknown)} "
                        f"(it takes {takes})")


class OperationRunner:
    """Prepares and sends every operation from its definition (no per-operation code)."""

    def __init__(self, navigator: Navigator, preferences: Preferences, calls: CallRegistry,
                 clock: Callable[[], datetime], new_operation_id: Callable[[], str]) -> None:
        self._navigator = navigator
        self._preferences = preferences
        self._calls = calls
        self._clock = clock
        self.new_operation_id = new_operation_id

    @property
    def _context(self) -> CheckContext:
        return CheckContext(self._preferences.region, self._preferences.lenient_uri_spacing)

    # ------------------------------------------------------------------ finding the link

    def offering_resource(self, operation: OperationSpec, start: Resource) -> Resource:
        """The resource that offers ``operation``'s link, reached from ``start``."""
        return self._follow_path(start, operation.path)

    def _follow_path(self, start: Resource, path: tuple[str, ...]) -> Resource:
        resource = start
        for rel in path:
            resource = self._navigator.follow(resource, rel)
        return resource

    def offered_link(self, operation: OperationSpec, start: Resource) -> str | None:
        """The operation's link as offered right now, None when it is not."""
        return self._navigator.link(self.offering_resource(operation, start), operation.rel)

    # ------------------------------------------------------------------ creating a call

    def draft(self, operation: OperationSpec, url: str, values: Values,
              format: Format | None = None, target: str | None = None) -> PreparedCall:
        """The request to ``url``, with local validation; no network."""
        given = values.get("operation_id")
        # Checked here, where every operation's request is made: "yaml" is refused like
        # connect(format="yaml") refuses it, rather than quietly sent as XML.
        format = checked_format(self._preferences.format if format is None else format)
        return draft(operation, self, url=url, format=format,
                     values=values,
                     operation_id=given if given is not None else self.new_operation_id(),
                     region=self._preferences.region, target=target,
                     lenient_spacing=self._preferences.lenient_uri_spacing)

    def prepare(self, operation: OperationSpec, start: Resource, problem_key: str,
                values: Values, format: Format | None = None,
                target: str | None = None) -> PreparedCall:
        """The request to the link offered now. When it is not offered, the link seen last
        is used (what a racing client would do) and ``problems[problem_key]`` says why."""
        refuse_unknown_arguments(operation, values)
        if format is not None:
            checked_format(format)  # before any request is made
        offering = self.offering_resource(operation, start)
        url = self._navigator.link(offering, operation.rel)
        missing: dict[str, str] = {}
        if url is None:
            state = offering.get("state")
            missing[problem_key] = (f"{operation.rel} is not offered now" + (
                f" ({in_words(operation.acts_on)} is {state})" if state else ""))
            url = self._navigator.remembered_link(offering, operation.rel)
            if url is None:
                raise ValidationError({**operation.problems(values, self._context),
                                       **missing})
        prepared = self.draft(operation, url, values, format, target)
        prepared.problems.update(missing)
        return prepared

    def send(self, prepared: PreparedCall) -> PhoneAudioCall:
        """POST a prepared call; its invitation is followed as the call that comes back."""
        call = PhoneAudioCall(prepared.operation_id, prepared.kind, prepared.target, self,
                              self._clock)
        self._calls.add(call)  # registered first: started can beat the 201
        try:
            response = self._navigator.request(
                "POST", prepared.url, rel=prepared.kind, operation_id=prepared.operation_id,
                content=prepared.body, content_type=media_type(prepared.format),
                accept=media_type(prepared.format), raise_errors=False)
        except httpx.HTTPError:
            self._calls.discard(call)
            raise
        call.events_before_response = len(call.events)
        call.http_status = response.status_code
        if response.status_code != 201:
            self._calls.discard(call)
            raise UcwaError.from_response(response)
        call.location = ExchangeHooks.location_of(response)
        return call

    # ------------------------------------------------------------------ acting on a call

    def _invitation(self, call: PhoneAudioCall, rel: str) -> Resource:
        if call.location is None:
            raise ValidationError({"call": f"the call has no invitation to {rel}"})
        return self._navigator.get(call.location, "phoneAudioInvitation")

    def _call_path(self, operation: OperationSpec, invitation: Resource) -> tuple[str, ...]:
        path = operation.path
        if path == ("phoneAudio",) and invitation.link("derivedPhoneAudio") is not None:
            # derivedPhoneAudio_ref: answered by someone new, the call is served from a
            # derived conversation; its phoneAudio is the one to act on.
            path = ("derivedPhoneAudio",)
        return path

    def _links_on_call(self, invitation: Resource,
                       operations: list[OperationSpec]) -> dict[str, str | None]:
        """Each operation's link as offered now, reached from the call's invitation: one GET
        per resource on the way, shared by the operations that need it."""
        offering: dict[tuple[str, ...], Resource | None] = {(): invitation}
        found: dict[str, str | None] = {}
        for operation in operations:
            path = self._call_path(operation, invitation)
            if path not in offering:
                # No link to the first step: the call's conversation has ended.
                offering[path] = (self._follow_path(invitation, path)
                                  if invitation.link(path[0]) is not None else None)
            resource = offering[path]
            found[operation.rel] = (self._navigator.link(resource, operation.rel)
                                    if resource is not None else None)
        return found

    def offered_on_call(self, call: PhoneAudioCall) -> tuple[str, ...]:
        """The rels of the operations on a call whose links are offered now (GETs)."""
        on_call = [op for op in OPERATIONS.values() if op.reached_from == "phoneAudioInvitation"]
        if call.location is None:
            return ()
        links = self._links_on_call(self._invitation(call, "act"), on_call)
        return tuple(rel for rel, url in links.items() if url is not None)

    def _call_link(self, operation: OperationSpec, call: PhoneAudioCall) -> str:
        """The link to act on ``call`` through, as offered now; ValidationError saying why
        when there is none."""
        # The cancel link of the latest event spares a GET; the others take one or two.
        offered = call.cancel_link if operation.rel == "cancel" else None
        if offered is not None and call.location is not None:
            return absolute(offered, call.location)
        invitation = self._invitation(call, operation.rel)
        path = self._call_path(operation, invitation)
        url = self._links_on_call(invitation, [operation])[operation.rel]
        if url is not None:
            return url
        if not path:
            reason = f"the call is no longer in progress ({invitation.get('state')})"
        elif invitation.link(path[0]) is None:
            reason = f"{operation.rel} is not offered now (the call's conversation has ended)"
        else:
            state = self._follow_path(invitation, path).get("state")
            reason = (f"{operation.rel} is not offered now ({in_words(operation.acts_on)} is "
                      f"{state})")
        raise ValidationError({"call": reason})

    def act(self, operation: OperationSpec | str, call: PhoneAudioCall,
            values: Values) -> None:
        """POST ``operation`` through the link the call's invitation, or the resource it
        leads to, offers now; with a body in the session's format when the operation takes
        input, checked locally first (ValidationError, nothing sent)."""
        operation = operation_named(operation)
        refuse_unknown_arguments(operation, values)
        problems = operation.problems(values, self._context)
        if problems:
            raise ValidationError(problems)
        url = self._call_link(operation, call)
        if not operation.fields:
            self._navigator.request("POST", url, rel=operation.rel,
                                    operation_id=call.operation_id)
            return
        media = media_type(self._preferences.format)
        self._navigator.request("POST", url, rel=operation.rel, operation_id=call.operation_id,
                                content=build_input(operation.body(values),
                                                    self._preferences.format),
                                content_type=media, accept=media)
