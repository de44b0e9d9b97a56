select article_id, start_char, end_char, label from mentions
