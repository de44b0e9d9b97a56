-- In the article's order, so that scoring reads the same list every time.
select article_id, start_char, end_char, label from mentions
order by article_id, start_char, end_char, label
