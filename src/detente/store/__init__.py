"""The store kernel: typed records, the one access decision, the write guard, the audit
append (see ``records``, ``reads``, ``service``, ``access``, ``permissions``). It imports no slice."""
