-- Which files were quarantined, and why?
with final as (
    select path, error, size_bytes, modified_at, last_seen_at
    from sources
    where status = 'quarantined'
    order by path
)
select * from final
