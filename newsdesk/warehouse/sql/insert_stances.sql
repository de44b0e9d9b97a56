-- A stance row is built like a claim row: the speaker is the holder.
insert into stances by name
select
    article_id, claim_idx as stance_idx, kind, speaker as holder, speaker_entity_id as holder_entity_id,
    speaker_start as holder_start, speaker_end as holder_end, cue, cue_start, content, content_start,
    content_end, sentence_idx, confidence, extractor_version
from batch_stances
