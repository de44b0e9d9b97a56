select s.path, a.article_id, a.text
from sources as s
join articles as a using (article_id)
where s.status = 'ingested'
