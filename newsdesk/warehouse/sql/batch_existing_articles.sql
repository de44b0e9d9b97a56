select count(*) from articles where article_id in (select article_id from batch_replaced)
