select article_id, extractor_version from articles
