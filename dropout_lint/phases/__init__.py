"""The phases of linting files, which ``engine`` puts together: read a file
(``read``), parse it and run the checks of its syntax tree and its summary in one
traversal (``analyse``), turn what the checks reported into diagnostics (``diagnose``),
then, over all the files of a run, run the cross-file rules (``cross_file``) and apply
``# noqa`` (``finish``). ``results`` holds what passes between them."""
