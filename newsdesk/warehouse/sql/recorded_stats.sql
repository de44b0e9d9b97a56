-- What a plan of the whole of seeds/ compares each file with (records.RecordedStat).
select path, size_bytes, mtime_ns, status, ctime_ns
from sources
