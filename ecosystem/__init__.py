"""The ecosystem check: dropout-lint on a pinned corpus of real PyTorch code, against labels."""
