"""Moving a network from Ultimate Multisite 2.x: its tables mapped onto the bridge (issue 18).

Pure modules, no I/O (rows in, catalog data + membership records + report lines out):
`serialized` (PHP-serialized values through `phpserialize`, never eval), `limitations` (every
limitation module's encodings → our limits, table-driven), `products` (the catalog),
`members` (customers, memberships, sites), `report` (the operator's report) and `plan`
(the whole mapping). The reader (`bridge.adapters.um_reader`) fills `rows.UmNetwork` from the
database; the service (`bridge.services.um_import`) writes the plan through the use cases.
Facts: docs/ultimate-multisite/schema.md and behaviour.md.
"""
