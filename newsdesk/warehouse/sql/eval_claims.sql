select article_id, content, speaker, speaker_start, speaker_end, kind from claims
