"""What spans files: per-file summaries, the project index built from them, and the
rules that need the whole network (placement, unused layers, rates passed between
classes)."""
