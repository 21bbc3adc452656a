"""Secure channels (#15): end-to-end encrypted messaging between users and organisations,
crisis hotlines whose urgent messages must be acknowledged or are escalated, scheduled
communications checks, and the crisis log.

The server never holds a plaintext or a usable private key: clients (the CLI, the
browser) encrypt and decrypt; the server checks signatures, markings and sizes, stores
ciphertext and the metadata it needs, delivers, escalates and audits.

Modules: ``crypto`` (the formats and checks, libsodium through PyNaCl), ``tables``,
``records`` (the crisis log's incidents, a store record type), ``keys`` (publish,
rotate, revoke), ``messages`` (conversations, sending, reading, acknowledging),
``hotlines`` (rosters, escalation, communications checks), ``live`` (the delivery bus,
the escalation loop, webhook and e-mail notices), ``crisis`` (the timeline and its PDF),
``client`` (what a client does: encrypt for recipients, decrypt).
"""
