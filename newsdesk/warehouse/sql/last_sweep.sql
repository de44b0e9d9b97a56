-- When the latest completed run began its walk of the whole of seeds/.
select max(swept_at) from runs where status = 'completed'
