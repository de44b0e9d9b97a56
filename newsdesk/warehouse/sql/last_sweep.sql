-- When the latest completed run began its walk of the whole of seeds/. A stamp later
-- than now (another host's clock ahead) is left out: it says nothing of how long ago.
select max(swept_at) from runs where status = 'completed' and swept_at <= $now
