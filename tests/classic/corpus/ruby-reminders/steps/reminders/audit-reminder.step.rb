def config
  {
    type: 'event',
    name: 'AuditReminder',
    subscribes: ['reminder.sent'],
    emits: [],
    flows: ['reminders']
  }
end

def handler(input, context)
  sent = context.state.get('audit', 'sent') || []
  context.state.set('audit', 'sent', sent + [input['id']])
end
