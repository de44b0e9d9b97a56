-- Ingested files whose article was extracted by another extractor version.
select s.path, s.article_id
from sources as s
join articles as a using (article_id)
where s.status = 'ingested' and a.extractor_version is distinct from $extractor_version
