/* Stub of Seeed Arduino LSM6DS3 2.0 (LSM6DS3.h): the XIAOML Kit's LSM6DS3TR-C; readFloat* in g
 * and degrees per second. */
#pragma once
#include <Arduino.h>
#include <Wire.h>

#define I2C_MODE 0
#define SPI_MODE 1

typedef enum {
  IMU_SUCCESS,
  IMU_HW_ERROR,
  IMU_NOT_SUPPORTED,
  IMU_GENERIC_ERROR,
  IMU_OUT_OF_BOUNDS,
  IMU_ALL_ONES_WARNING,
} status_t;

struct SensorSettings {
  uint8_t gyroEnabled;
  uint16_t gyroRange;
  uint16_t gyroSampleRate;
  uint16_t gyroBandWidth;
  uint8_t accelEnabled;
  uint8_t accelODROff;
  uint16_t accelRange;
  uint16_t accelSampleRate;
  uint16_t accelBandWidth;
};

class LSM6DS3Core {
 public:
  LSM6DS3Core(uint8_t busType, uint8_t inputArg);
  ~LSM6DS3Core() = default;
  status_t beginCore(void);
};

class LSM6DS3 : public LSM6DS3Core {
 public:
  SensorSettings settings;
  LSM6DS3(uint8_t busType = I2C_MODE, uint8_t inputArg = 0x6B);
  ~LSM6DS3() = default;
  status_t begin(void);
  int16_t readRawAccelX(void);
  int16_t readRawAccelY(void);
  int16_t readRawAccelZ(void);
  int16_t readRawGyroX(void);
  int16_t readRawGyroY(void);
  int16_t readRawGyroZ(void);
  float readFloatAccelX(void);
  float readFloatAccelY(void);
  float readFloatAccelZ(void);
  float readFloatGyroX(void);
  float readFloatGyroY(void);
  float readFloatGyroZ(void);
  float readTempC(void);
};
