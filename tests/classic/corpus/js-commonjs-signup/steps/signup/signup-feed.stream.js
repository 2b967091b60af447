module.exports.config = {
  name: 'signupFeed',
  schema: { type: 'object', properties: { message: { type: 'string' } } },
  baseConfig: { storageType: 'default' },
}
