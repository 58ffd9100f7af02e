"""Full-text search in Chinese: a small backend protocol, Whoosh (default, jieba words, Traditional folded
to Simplified), and an indexing queue that keeps the index in step with committed data."""
