select count(*) from news.snapshots()
