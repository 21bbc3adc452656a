"""Federation over TAXII 2.1 (#14 point 6): the server (``server``), the objects it serves
and stores (``objects``), their tables (``tables``). The client is ``detente.exchange.sync``."""
