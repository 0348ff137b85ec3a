"""Accuracy of the tool caller: home-style JSONL sets and BFCL's public categories."""
