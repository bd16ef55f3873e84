/*
 * A plant model in C for simulated boards (the QEMU port): the drive layer of app.h implemented
 * by simulating the profile's joints and IMU, so the image behaves like a robot without hardware.
 *
 * It follows hardware/joint-dynamics.ts (the TypeScript plant of the virtual firmware) for the
 * joints: each joint is a servo's closed loop, a position loop with a square-root brake feeding a
 * velocity loop, acceleration, velocity and position clamped to the profile's limits; a disabled
 * joint coasts with viscous friction. What is simpler here, on purpose (float, no allocation, a
 * small image): no motor faults, no encoder noise or quantisation beyond the counts themselves;
 * the IMU is on a base at rest (gravity, the profile's scale, bias and white noise, orientation =
 * the mount), where the TypeScript plant also moves the base and models impacts and IMU faults.
 */
#ifndef SPINAL_PLANT_H
#define SPINAL_PLANT_H

#include "spinal_mcu.h"

typedef struct {
    float counts_per_rad;   /* signed: the encoder's direction included */
    int32_t zero_offset;    /* counts at 0 rad */
    int32_t single_turn_cpr; /* counts per revolution of a single-turn encoder; 0 when multi-turn */
    float q_min, q_max, v_max, a_max, i_max; /* rad, rad/s, rad/s^2, A */
    float kp, kv;           /* position loop 1/s, velocity loop 1/s (from the servo's wn, zeta) */
    float home;             /* rad at power-up */
} plant_joint_t;

typedef struct {
    bool present, fused;
    float accel_noise, gyro_noise, accel_scale;
    float gyro_bias[3];
    float mount[4]; /* w x y z: sensor frame in the base frame */
} plant_imu_t;

void plant_init(const plant_joint_t *joints, uint8_t joint_count, const plant_imu_t *imu, uint32_t now_us);
/* Steps the plant to now_us (sub-steps of at most 1 ms), then takes the core's output. */
void plant_apply(const spinal_drive_t *out, uint32_t now_us);
/* Positions (counts), velocities (counts/s), currents (A) and the IMU into a STATE. */
void plant_read(spinal_state_t *st, uint32_t now_us);

#endif /* SPINAL_PLANT_H */
