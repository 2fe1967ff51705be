package testpeer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// videoFrame is how long each IVF frame is shown (20 frames a second).
const videoFrame = 50 * time.Millisecond

// publish adds the tracks of opt and starts feeding them; they stop when the
// peer closes.
func (p *Peer) publish(opt Options) error {
	if opt.IVF != "" || opt.Frames != nil {
		frames := opt.Frames
		if frames == nil {
			var err error
			if frames, err = ReadIVF(opt.IVF); err != nil {
				return err
			}
		}
		var err error
		if opt.Stamp {
			err = p.publishStamped(frames)
		} else {
			err = p.publishFrames(frames)
		}
		if err != nil {
			return err
		}
	}
	if opt.Ogg != "" || opt.Audio {
		var pages [][]byte
		if opt.Ogg != "" {
			var err error
			if pages, err = readOgg(opt.Ogg); err != nil {
				return err
			}
		} else {
			pages = [][]byte{{0xf8, 0xff, 0xfe}} // an Opus silence frame
		}
		track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "local")
		if err != nil {
			return err
		}
		if _, err := p.pc.AddTrack(track); err != nil {
			return fmt.Errorf("add audio: %w", err)
		}
		const frame = 20 * time.Millisecond
		p.wg.Add(1)
		go p.loop(frame, func(i int) { _ = track.WriteSample(media.Sample{Data: pages[i%len(pages)], Duration: frame}) })
	}
	return nil
}

// publishFrames sends VP8 frames as samples, Pion packetizing them.
func (p *Peer) publishFrames(frames [][]byte) error {
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "local")
	if err != nil {
		return err
	}
	if err := p.addVideo(track); err != nil {
		return err
	}
	p.wg.Add(1)
	go p.loop(videoFrame, func(i int) { _ = track.WriteSample(media.Sample{Data: frames[i%len(frames)], Duration: videoFrame}) })
	return nil
}

// addVideo publishes a video track and counts the keyframe requests the
// server sends about it.
func (p *Peer) addVideo(track webrtc.TrackLocal) error {
	sender, err := p.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("add video: %w", err)
	}
	p.wg.Add(1)
	go p.countKeyframeRequests(sender)
	return nil
}

// countKeyframeRequests reads the RTCP the server sends about our video and
// counts its keyframe requests (PLI, FIR).
func (p *Peer) countKeyframeRequests(sender *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.KeyframeRequests.Add(1)
			}
		}
	}
}

func (p *Peer) loop(every time.Duration, send func(int)) {
	defer p.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.closed:
			return
		case <-t.C:
			send(i)
		}
	}
}

// ReadIVF loads every frame of a VP8 IVF file.
func ReadIVF(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		frames = append(frames, frame)
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s has no frames", path)
	}
	return frames, nil
}

// readOgg loads the Opus pages of an Ogg file (each page is sent as one
// sample; the server does not decode them).
func readOgg(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var pages [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if len(page) > 0 && len(page) < 1200 && !bytes.HasPrefix(page, []byte("OpusTags")) {
			pages = append(pages, page)
		}
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("%s has no Opus pages", path)
	}
	return pages, nil
}
