# Ruby event step, run by the Ruby runner. It listens to a topic the JavaScript step
# emits (order.sent) and one a Python step emits (quote.priced).
require 'time'

def config
  {
    type: 'event',
    name: 'AuditTrail',
    description: 'Record sent orders and priced quotes',
    subscribes: ['order.sent', 'quote.priced'],
    emits: [],
    flows: ['orders', 'quotes']
  }
end

# Context calls block and return their value (no await). Input fields read as
# `input.id` or `input['id']`.
def handler(input, context)
  entry = {
    id: input.id,
    item: input['item'],
    quantity: input['quantity'],
    traceId: context.trace_id,
    auditedAt: Time.now.utc.iso8601
  }
  context.state.set('audit', input.id, entry)
  context.logger.info('Audit entry recorded', { id: input.id })
end
