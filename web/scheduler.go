package web

import (
	"context"
	"fmt"
	"time"

	"github.com/worktogether/worktogether/links"
	"go.uber.org/zap"
)

// The hourly scheduler: series grow their occurrences ahead, and expired
// sign-ups are forgotten.

// ExtendSeries makes the occurrences of every series up to seriesAhead from
// now, announcing each new one.
func (s *Server) ExtendSeries(ctx context.Context) error {
	list, err := s.cfg.Store.ListSeries(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, ser := range list {
		to := now.Add(seriesAhead)
		if !ser.Horizon.Before(to) {
			continue
		}
		occ, err := occurrences(ser, ser.Horizon, to, now)
		if err != nil {
			return fmt.Errorf("extend series %s: %w", ser.ID, err)
		}
		if err := s.cfg.Store.ExtendSeries(ctx, ser.ID, occ, to, s.notify()); err != nil {
			return err
		}
		if len(occ) > 0 {
			s.log.Info("series extended", zap.String("series", ser.ID), zap.Int("occurrences", len(occ)))
		}
	}
	s.mailQueued()
	return nil
}

// ForgetUnconfirmed deletes the sign-ups whose confirmation links have all
// expired (a day's grace after links.ConfirmValid).
func (s *Server) ForgetUnconfirmed(ctx context.Context) {
	n, err := s.cfg.Store.ForgetUnconfirmed(ctx, s.now().Add(-links.ConfirmValid-24*time.Hour))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("forget unconfirmed sign-ups", zap.Error(err))
	case n > 0:
		s.log.Info("forgot unconfirmed sign-ups", zap.Int("count", n))
	}
}

// RunScheduler, every hour until ctx is done, extends series and forgets
// expired sign-ups.
func (s *Server) RunScheduler(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.ExtendSeries(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("extend series", zap.Error(err))
		}
		s.ForgetUnconfirmed(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
