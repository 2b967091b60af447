// The project config classic Motia read at start.
module.exports = {
  plugins: [],
  redis: { useMemoryServer: true },
  app: (app) => {
    app.get('/healthz', (req, res) => res.send('ok'))
  },
}
