import PacketWire

// The checks of a session's RSTs, SYNs and ACKs (RFC 9293, RFC 5961), on the flow alone: the
// engine turns their answers into verdicts and counters (FlowEngine.existing).

extension Flow {
    /// RFC 5961 §3.2: an RST ends the connection only at exactly the receiver's next sequence
    /// number; RFC 9293 §3.10.7.3: before the SYN-ACK, one that acknowledges the SYN.
    func isExactReset(_ packet: TCPPacket, from direction: Direction) -> Bool {
        if direction == .fromResponder && responderStream.isn == nil {
            return packet.flags.contains(.ack)
                && initiatorStream.isn.map { packet.acknowledgmentNumber == $0 + 1 } == true
        }
        return self[direction].expected == packet.sequenceNumber
    }

    /// What a SYN or SYN-ACK of a session in the table is.
    enum SYNSegment {
        /// The SYN or the SYN-ACK again, or the first SYN-ACK (now learned): pass it.
        case handshake
        /// A SYN on an established session (RFC 5961 §4: the server answers with a challenge
        /// ACK; a client that really lost the connection then sends an RST at the right sequence
        /// number, which ends it): pass it, change nothing.
        case onEstablished
        /// Another ISN than the session's, a SYN-ACK that answers no SYN of it, a SYN from the
        /// responder or a SYN-ACK from the initiator (a simultaneous open): drop it.
        case refused
    }

    /// Takes a SYN or SYN-ACK: the first SYN-ACK sets the responder's sequence space and, where
    /// the SYN could not, binds the responder's side to the interface it came in on.
    mutating func handshake(_ packet: TCPPacket, from direction: Direction, interfaces: PacketInterfaces?) -> SYNSegment {
        switch (direction, packet.flags.contains(.ack)) {
        case (.fromInitiator, false):
            if packet.sequenceNumber == initiatorStream.isn && life == .opening { return .handshake }
            return life == .open ? .onEstablished : .refused  // the server keeps the first ISN
        case (.fromResponder, true):
            guard let initiatorISN = initiatorStream.isn, packet.acknowledgmentNumber == initiatorISN + 1 else {
                return .refused
            }
            if let isn = responderStream.isn { return packet.sequenceNumber == isn ? .handshake : .refused }
            responderStream.start(isn: packet.sequenceNumber)
            binding.bindResponder(interfaces)
            return .handshake
        case (.fromInitiator, true), (.fromResponder, false):
            return .refused
        }
    }

    /// Whether `ack`, from `direction`, acknowledges only bytes that went to its sender through
    /// us: not beyond what was released the other way (and its FIN), nor a window's worth before
    /// (RFC 5961 §5).
    func acknowledgesOnlyWhatWasSent(_ ack: SequenceNumber, from direction: Direction) -> Bool {
        guard let expected = self[direction.reversed].expected else { return false }
        let behind = ack.distance(to: expected)
        return behind >= 0 && behind <= FlowEngine.maximumWindow
    }
}
