"""The ARI side of pbx: a thin client (httpx + websockets) and the Stasis app "pbx".

Python runs only where a person talks to the system (PIN entry, voicemail access,
hot desk, feature codes, authorization codes); the plain call path stays in the
dialplan. Why a client of our own: see docs/architecture.md ("ARI").
"""
