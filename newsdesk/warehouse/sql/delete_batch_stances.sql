delete from stances where article_id in (select article_id from batch_replaced)
