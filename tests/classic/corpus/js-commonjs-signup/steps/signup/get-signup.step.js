exports.config = {
  type: 'api',
  name: 'GetSignup',
  method: 'GET',
  path: '/signups/:id',
  emits: [],
  flows: ['signup'],
}

exports.handler = async (req, { state }) => {
  const signup = await state.get('signups', req.pathParams.id)
  if (!signup) return { status: 404, body: { error: 'unknown signup' } }
  return { status: 200, body: signup }
}
