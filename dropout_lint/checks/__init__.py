"""One module per rule (a rule with a check of the syntax tree and one over the project
index may have a module for each). The catalog names them; nothing registers itself on
import, and the registry imports a module only when a run first needs it."""
