exports.config = {
  type: 'event',
  name: 'WelcomeEmail',
  subscribes: ['signup.verified'],
  emits: [],
  flows: ['signup'],
}

exports.handler = async ({ id }, { state, streams }) => {
  const signup = await state.get('signups', id)
  await streams.signupFeed.set(id, 'welcome', { message: `Welcome, ${signup.name}!` })
  await state.set('signups', id, { ...signup, status: 'welcomed' })
}
