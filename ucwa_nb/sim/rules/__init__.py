"""The UCWA behaviour of the simulator, without HTTP: who may do what, when, and what follows.

``world`` (users, tokens, applications and their expiry, faults, the callback channel),
``offers`` (what each resource offers in its current state), ``phone_audio`` (the phone-audio
operations), ``calls`` (the call-via-work lifecycle of an invitation), ``me``
(makeMeAvailable) and ``notify`` (the events each change sends).
"""
