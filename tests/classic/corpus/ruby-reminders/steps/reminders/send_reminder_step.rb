def config
  {
    'type' => 'event',
    'name' => 'SendReminder',
    'subscribes' => ['reminder.scheduled'],
    'emits' => [{ 'topic' => 'reminder.sent', 'label' => 'Delivered' }],
    'input' => {
      'type' => 'object',
      'properties' => { 'id' => { 'type' => 'string' }, 'text' => { 'type' => 'string' } }
    },
    'flows' => ['reminders']
  }
end

def handler(input, context)
  stored = context.state.get('reminders', input['id'])
  reminder = stored.to_h.merge(status: 'sent', delivered: input['text'].upcase)
  context.state.set('reminders', input['id'], reminder)
  context.logger.info('reminder sent', { 'id' => input['id'], 'trace' => context.trace_id })
  context.emit({ 'topic' => 'reminder.sent', 'data' => { 'id' => input['id'] } })
end
