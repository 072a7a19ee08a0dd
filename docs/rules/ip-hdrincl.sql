-- rule: ip-hdrincl-sql
-- severity: high
-- summary: a process writes its own IP headers (IP_HDRINCL)
-- description: the built-in ip-hdrincl rule written in SQL: IP_HDRINCL switched on lets a raw socket forge the
--   source address and every other header field
-- false-positives: traceroute-like tools and packet generators run on purpose
SELECT host, pid, comm, processStartNs, uid, rowtime,
       CONCAT(optionLevel, '/', optionName, '=', COALESCE(CAST(optionValue AS STRING), '?')) AS evidence
FROM events
WHERE kind = 'SETSOCKOPT' AND returnValue >= 0 AND optionName = 'IP_HDRINCL'
  AND (optionValue IS NULL OR optionValue <> 0)
