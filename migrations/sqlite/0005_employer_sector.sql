-- The employer's sector, in the salary survey's vocabulary (kommun, region,
-- stat, offentligt_bolag, privat, konsult; checked by the application), so a
-- job ad's market salary can be narrowed to it. Optional: employers created
-- before this have none until they set it.
alter table employers add column sector text;
