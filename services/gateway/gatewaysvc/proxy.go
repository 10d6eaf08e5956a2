package gatewaysvc

import (
	"cmp"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// frame is one undecoded gRPC message. The proxy forwards frames without
// decoding them, so it serves every RPC of every backend, present and future,
// with no per-method code; the backends decode and validate.
type frame struct{ data []byte }

// codec passes frames through untouched and encodes everything else (the
// gateway's own health and reflection services) as protobuf.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2("proto")} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*frame); ok {
		return mem.BufferSlice{mem.SliceBuffer(f.data)}, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if f, ok := v.(*frame); ok {
		f.data = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

func (codec) Name() string { return "proto" }

// proxy forwards calls to the backend that owns the called service.
type proxy struct {
	backends map[string]*grpc.ClientConn // by full service name
	timeout  time.Duration
	codec    codec
	maxBytes func(method string) int64 // request message limit per method
}

// backend returns the connection of the service named in a full method
// ("/tandem.participant.v1.ParticipantService/GetProgram").
func (p *proxy) backend(method string) (*grpc.ClientConn, bool) {
	service, _, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok {
		return nil, false
	}
	conn, ok := p.backends[service]
	return conn, ok
}

// handle is the server's UnknownServiceHandler: every call not served by the
// gateway itself arrives here after authentication and authorization.
func (p *proxy) handle(_ any, in grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(in)
	conn, ok := p.backend(method)
	if !ok {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	ctx := in.Context()
	md, _ := metadata.FromIncomingContext(ctx)
	ctx = metadata.NewOutgoingContext(ctx, md.Copy())
	// Every outbound call has a deadline, the caller's or ours.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(p.codec))
	if err != nil {
		return err
	}

	// Client to backend.
	limit := p.maxBytes(method)
	sendErr := make(chan error, 1)
	go func() {
		for {
			f := &frame{}
			if err := in.RecvMsg(f); err != nil {
				if errors.Is(err, io.EOF) {
					sendErr <- out.CloseSend()
				} else {
					sendErr <- err
				}
				return
			}
			if int64(len(f.data)) > limit {
				// Record the reason before cancelling, so the caller gets it
				// rather than the cancellation it causes.
				sendErr <- status.Errorf(codes.ResourceExhausted, "request of %d bytes is larger than the %d bytes %s accepts", len(f.data), limit, method)
				cancel()
				return
			}
			if err := out.SendMsg(f); err != nil {
				sendErr <- err
				return
			}
		}
	}()

	// Backend to client.
	header, err := out.Header()
	if err != nil {
		return cmp.Or(sendFailure(sendErr), err)
	}
	if err := in.SendHeader(header); err != nil {
		return err
	}
	for {
		f := &frame{}
		if err := out.RecvMsg(f); err != nil {
			if failed := sendFailure(sendErr); failed != nil {
				return failed
			}
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := in.SendMsg(f); err != nil {
			return err
		}
		select {
		case err := <-sendErr:
			if err != nil {
				return err
			}
		default:
		}
	}
}

// sendFailure returns the error of the client-to-backend direction, if it
// has failed.
func sendFailure(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}
