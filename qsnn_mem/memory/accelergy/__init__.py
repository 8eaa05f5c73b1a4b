"""Accelergy/Timeloop interoperability: export a priced run as Accelergy's ERT, ART, action
counts and architecture files (:mod:`.export`); price runs with a user's ERT (:mod:`.ert`).
docs/accelergy.md describes both."""
