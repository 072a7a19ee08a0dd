-- rule: raw-socket-sql
-- severity: medium
-- summary: a raw IP socket or a packet socket was opened
-- description: the built-in raw-socket rule written in SQL: such a socket sees or crafts whole packets (sniffers,
--   spoofing, covert channels); the type is read without its SOCK_CLOEXEC and SOCK_NONBLOCK flags, and a raw
--   netlink socket (how ip, ss and nft talk to the kernel) is not one
-- false-positives: tcpdump, DHCP clients, ping without ping sockets
SELECT host, pid, comm, processStartNs, uid, rowtime,
       CONCAT('socket(', COALESCE(family, argFamily), ', ', COALESCE(socketType, argType), ')') AS evidence
FROM events
WHERE kind = 'SOCKET' AND returnValue >= 0
  AND (COALESCE(family, argFamily) = 'AF_PACKET'
       OR (COALESCE(family, argFamily) IN ('AF_INET', 'AF_INET6')
           AND REGEXP(COALESCE(socketType, argType), '(^|[|])SOCK_RAW([|]|$)')))
