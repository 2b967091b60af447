const { TICKETS } = require('../../utils/keys.cjs')

const config = {
  type: 'api',
  name: 'GetTicket',
  method: 'GET',
  path: '/tickets/:id',
  emits: [],
  flows: ['helpdesk'],
}

const handler = async (req, { state }) => {
  const ticket = await state.get(TICKETS, req.pathParams.id)
  return ticket ? { status: 200, body: ticket } : { status: 404, body: { error: 'no ticket' } }
}

module.exports = { config, handler }
