-- Only changes that can alter what search shows go through the outbox: an ad
-- that is published before or after the change. Drafts being written and
-- edited, and ads in review, never reach the index, so they cost the search
-- sync nothing. (The worker still sends an ad's current state, so this only
-- leaves out rows that would have meant "delete what is not there".)
drop trigger job_ads_outbox on job_ads;

create trigger job_ads_outbox_insert after insert on job_ads
    for each row when (new.status = 'published') execute function search_outbox_enqueue();
create trigger job_ads_outbox_update after update on job_ads
    for each row when (old.status = 'published' or new.status = 'published') execute function search_outbox_enqueue();
create trigger job_ads_outbox_delete after delete on job_ads
    for each row when (old.status = 'published') execute function search_outbox_enqueue();
