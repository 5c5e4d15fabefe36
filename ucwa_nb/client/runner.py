"""Running the operations of ``operations.py``: find the link where the definition says it is,
prepare the request, send it, and follow a created invitation as a PhoneAudioCall."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.errors import UcwaError, ValidationError
from ucwa_nb.client.hooks import ExchangeHooks, absolute
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.operations import CANCEL, Operation, PreparedCall, Values, draft
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.registry import CallRegistry
from ucwa_nb.protocol.representation import Format, Resource, checked_format, media_type

__all__ = ["OperationRunner"]


class OperationRunner:
    def __init__(self, navigator: Navigator, preferences: Preferences, calls: CallRegistry,
                 clock: Callable[[], datetime], new_operation_id: Callable[[], str]) -> None:
        self._navigator = navigator
        self._preferences = preferences
        self._calls = calls
        self._clock = clock
        self.new_operation_id = new_operation_id

    # ------------------------------------------------------------------ finding the link

    def offering_resource(self, operation: Operation, start: Resource) -> Resource:
        """The resource that offers ``operation``'s link, reached from ``start``."""
        return self._follow_path(start, operation.path)

    def _follow_path(self, start: Resource, path: tuple[str, ...]) -> Resource:
        resource = start
        for rel in path:
            resource = self._navigator.follow(resource, rel)
        return resource

    def offered_link(self, operation: Operation, start: Resource) -> str | None:
        """The operation's link as offered right now, None when it is not."""
        return self._navigator.link(self.offering_resource(operation, start), operation.rel)

    # ------------------------------------------------------------------ creating a call

    def draft(self, operation: Operation, url: str, values: Values,
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

    def prepare(self, operation: Operation, start: Resource, problem_key: str,
                values: Values, format: Format | None = None,
                target: str | None = None) -> PreparedCall:
        """The request to the link offered now. When it is not offered, the link seen last
        is used (what a racing client would do) and ``problems[problem_key]`` says why."""
        if format is not None:
            checked_format(format)  # before any request is made
        offering = self.offering_resource(operation, start)
        url = self._navigator.link(offering, operation.rel)
        missing: dict[str, str] = {}
        if url is None:
            state = offering.get("state")
            missing[problem_key] = (f"{operation.rel} is not offered now" + (
                f" ({operation.offered_by_name} is {state})" if state else ""))
            url = self._navigator.remembered_link(offering, operation.rel)
            if url is None:
                raise ValidationError({**operation.check(
                    values, self._preferences.region, self._preferences.lenient_uri_spacing),
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

    def act(self, operation: Operation, call: PhoneAudioCall) -> None:
        """POST a body-less operation (stop, hold, resume, cancel) through the link the call's
        invitation, or the resource it leads to, offers now."""
        if call.location is None:
            raise ValidationError({"call": f"the call has no invitation to {operation.rel}"})
        # The cancel link of the latest event spares a GET; the others are on phoneAudio.
        offered = call.cancel_link if operation is CANCEL else None
        url = absolute(offered, call.location) if offered is not None else None
        if url is None:
            invitation = self._navigator.get(call.location, "phoneAudioInvitation")
            if operation is CANCEL and invitation.link("cancel") is None:
                raise ValidationError({"call": f"the call is no longer in progress "
                                               f"({invitation.get('state')})"})
            path = operation.path
            if path == ("phoneAudio",) and invitation.link("derivedPhoneAudio") is not None:
                # derivedPhoneAudio_ref: answered by someone new, the call is served from
                # a derived conversation; its phoneAudio is the one to act on.
                path = ("derivedPhoneAudio",)
            if path and invitation.link(path[0]) is None:
                # The call's conversation has ended (conversation deleted): nothing to act on.
                raise ValidationError({"call": f"{operation.rel} is not offered now (the "
                                               f"call's conversation has ended)"})
            offering = self._follow_path(invitation, path)
            url = self._navigator.link(offering, operation.rel)
            if url is None:
                raise ValidationError({"call": f"{operation.rel} is not offered now "
                                               f"({operation.offered_by_name} is "
                                               f"{offering.get('state')})"})
        self._navigator.request("POST", url, rel=operation.rel,
                                operation_id=call.operation_id)
