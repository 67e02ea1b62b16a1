"""Trust between hubs: signed record versions, pinned keys, quarantine.

Each hub has an Ed25519 key pair (`federation.signing_key`). Every record version a hub serves
on its feed that it holds without an origin's signature (its own records, and those it took in
through a channel that signs nothing: the national exchange, a file drop) carries its signature
over the version's signed form (`forms`); a version received from another hub keeps the
signature it came with and is passed on untouched. A receiver checks each record of another
origin against the keys it has pinned for that origin before anything is applied; what fails is
quarantined (`quarantine`), never applied. Keys are pinned like known hosts (`keys`): from
configuration, on first contact with a partner, from a trusted partner's signed register, or
through a rotation the previous key endorsed; any other new key waits for an admin.
"""
