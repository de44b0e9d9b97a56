select path, size_bytes, mtime_ns, status, content_sha256, article_id, first_seen_at, ctime_ns
from sources
