// A second broker implementation for interoperability tests: aedes (MQTT 3.1.1) on
// 127.0.0.1:<port>, and where asked MQTT over WebSocket (the ws module, subprotocol "mqtt")
// on its own port, plain or TLS, and MQTT over TLS. Prints "listening" once it accepts connections; stops on
// SIGTERM.
//
//   node aedes_broker.js TCP_PORT [--ws PORT] [--wss PORT CERT KEY] [--tls PORT CERT KEY]
//                        [--ws-close-after MS CODE]
//
// --ws-close-after: MS milliseconds after each WebSocket connection opens, the broker closes
// it with a close frame carrying CODE (a broker going away, or refusing a client): the fault
// the WebSocket tests inject.
'use strict'
const aedes = require('aedes')()
const fs = require('fs')
const http = require('http')
const https = require('https')
const net = require('net')
const tls = require('tls')
const { WebSocketServer, createWebSocketStream } = require('ws')

const args = process.argv.slice(2)
const port = Number(args.shift())
let closeAfter = null
const servers = [net.createServer(aedes.handle).listen(port, '127.0.0.1')]

function serveWebSocket (server, wsPort) {
  const wss = new WebSocketServer({
    server,
    path: '/mqtt',
    // MQTT over WebSocket needs the subprotocol "mqtt" [MQTT-6.0.0-3]; refuse anything else.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false)
  })
  wss.on('connection', (socket) => {
    aedes.handle(createWebSocketStream(socket))
    if (closeAfter) setTimeout(() => socket.close(closeAfter.code, 'injected'), closeAfter.ms)
  })
  servers.push(server.listen(wsPort, '127.0.0.1'))
}

while (args.length > 0) {
  const flag = args.shift()
  if (flag === '--ws') {
    serveWebSocket(http.createServer(), Number(args.shift()))
  } else if (flag === '--wss') {
    const wssPort = Number(args.shift())
    const options = { cert: fs.readFileSync(args.shift()), key: fs.readFileSync(args.shift()) }
    serveWebSocket(https.createServer(options), wssPort)
  } else if (flag === '--tls') {
    const tlsPort = Number(args.shift())
    const options = { cert: fs.readFileSync(args.shift()), key: fs.readFileSync(args.shift()) }
    servers.push(tls.createServer(options, aedes.handle).listen(tlsPort, '127.0.0.1'))
  } else if (flag === '--ws-close-after') {
    closeAfter = { ms: Number(args.shift()), code: Number(args.shift()) }
  } else {
    console.error(`aedes_broker: unknown argument ${flag}`)
    process.exit(2)
  }
}

let waiting = servers.length
for (const server of servers) {
  server.on('listening', () => {
    if (--waiting === 0) console.log(`listening on 127.0.0.1:${port}`)
  })
}
process.on('SIGTERM', () => {
  for (const server of servers) server.close()
  aedes.close(() => process.exit(0))
})
