module.exports = { TICKETS: 'tickets' }
