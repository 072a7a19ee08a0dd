-- rule: shell-connect-sql
-- severity: high
-- summary: a shell connected out
-- description: the built-in shell-connect rule written in SQL: a shell making an internet connection itself is the
--   first step of a reverse shell (bash's /dev/tcp); a connect that is still in progress counts, a refused one not
-- false-positives: scripts that use bash's /dev/tcp for health checks
SELECT host, pid, comm, processStartNs, uid, rowtime,
       CONCAT('connect to ', sockaddrAddress, ':', CAST(sockaddrPort AS STRING)) AS evidence
FROM events
WHERE kind = 'CONNECT' AND (returnValue >= 0 OR errno = 'EINPROGRESS')
  AND sockaddrFamily IN ('AF_INET', 'AF_INET6')
  AND comm IN ('sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'busybox', 'ash')
