"""One read model for every rendering: CLI tables, web pages, the JSON API and exports.

Import from the module that defines a name (`usageledger.reports.usage`, `.overview`, `.allocation`…),
not from this package: a package that re-exported every read model would make each query command load
all of them (the allocation and overview models cost a CLI start ~40 ms it does not need; issue 9).
"""
