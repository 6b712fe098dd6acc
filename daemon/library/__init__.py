"""The prompt library: past optimizations and the user's prompt files, searchable.

* :mod:`.index` the tantivy index and its checkpoint (:class:`LibraryIndex`, :class:`Doc`)
* :mod:`.feed` what goes in: events of the log, files of the ``[library] paths`` folders
* :mod:`.keeper` the daemon's library service (upkeep, retrieval, the control API)
* :mod:`.types` the library's API params and results (light: the CLI imports it)

The index is derived, never the source of truth: ``promptd rebuild`` makes it again from the
log and the folders. Nothing about it can make an optimization fail.
"""
