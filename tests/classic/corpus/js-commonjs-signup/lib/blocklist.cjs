const BLOCKED = new Set(['10.6.6.6'])
module.exports = { isBlocked: (ip) => BLOCKED.has(ip) }
