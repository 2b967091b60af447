# Ruby event step. Needs the Ruby runner (not in this version yet).
def config
  {
    type: 'event',
    name: 'AuditQuote',
    description: 'Record priced quotes for auditing (Ruby)',
    subscribes: ['quote.priced'],
    emits: [],
    flows: ['quotes']
  }
end

def handler(input, context)
  context.state.set('audit', input['id'], input)
  context.logger.info('Quote audited', { id: input['id'] })
end
